-- Each API key's rate_limit + rate_window, as the Powalyze document has
-- them: rate_window names the window rate_limit counts over (hour by
-- default; minute, day and month too). The limit itself stays in the
-- window's own column (rate_per_minute, _hour, _day, and the new
-- rate_per_month), so a key may still hold limits on several windows at
-- once. Month windows are calendar months in UTC.
ALTER TABLE api_keys
    ADD COLUMN rate_per_month integer CHECK (rate_per_month > 0),
    ADD COLUMN rate_window text NOT NULL DEFAULT 'hour'
        CHECK (rate_window IN ('minute', 'hour', 'day', 'month'));

ALTER TABLE api_rate_counters DROP CONSTRAINT api_rate_counters_window_kind_check;
ALTER TABLE api_rate_counters ADD CONSTRAINT api_rate_counters_window_kind_check
    CHECK (window_kind IN ('minute', 'hour', 'day', 'month'));
