#!/usr/bin/python3
"""Decodes one Confluent wire-format message with Apache Avro's Python
implementation, independently of busline's C code.

usage: decode_independent.py MESSAGE_FILE REGISTRY_URL
Reads the raw message bytes, checks the 5-byte header (magic 0, big-endian
schema id), fetches the writer schema from REGISTRY_URL/schemas/ids/<id>,
decodes the body and prints {"schema_id": id, "value": ...} as JSON.
"""
import io
import json
import struct
import sys
import urllib.request

import datetime

import avro.io
import avro.schema


def plain(value):
    """timestamp-millis comes back as an aware datetime: print epoch millis."""
    if isinstance(value, datetime.datetime):
        return int(value.timestamp() * 1000)
    raise TypeError("cannot print %r" % (value,))


def main():
    path, registry = sys.argv[1], sys.argv[2].rstrip("/")
    with open(path, "rb") as f:
        raw = f.read()
    if len(raw) < 5 or raw[0] != 0:
        sys.exit("not a Confluent wire-format message")
    (schema_id,) = struct.unpack(">I", raw[1:5])
    with urllib.request.urlopen("%s/schemas/ids/%d" % (registry, schema_id), timeout=30) as resp:
        schema = avro.schema.parse(json.load(resp)["schema"])
    decoder = avro.io.BinaryDecoder(io.BytesIO(raw[5:]))
    value = avro.io.DatumReader(schema).read(decoder)
    print(json.dumps({"schema_id": schema_id, "value": value}, default=plain))


if __name__ == "__main__":
    main()
