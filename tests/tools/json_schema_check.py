#!/usr/bin/python3
"""Validates instances against JSON Schemas (draft 2020-12) with an
implementation independent of busline: Debian's python3-jsonschema.

  json_schema_check.py CASES.json
CASES.json holds [{"schema": {...}, "instance": ...}, ...]. Prints one line
per case, in order: "valid", or "invalid <the first error's message>".
Exits 0 when every case was checked, 2 when the file or a schema is bad.
"""
import json
import sys

import jsonschema


def main():
    with open(sys.argv[1], encoding="utf-8") as f:
        cases = json.load(f)
    for case in cases:
        schema = case["schema"]
        jsonschema.Draft202012Validator.check_schema(schema)
        validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
        errors = sorted(validator.iter_errors(case["instance"]), key=lambda e: list(e.path))
        print("valid" if not errors else "invalid " + errors[0].message.replace("\n", " ")[:300])
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (OSError, ValueError, KeyError, jsonschema.SchemaError) as e:
        print(f"json_schema_check: {e}", file=sys.stderr)
        sys.exit(2)
