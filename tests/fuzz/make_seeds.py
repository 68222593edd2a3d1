#!/usr/bin/env python3
"""Writes the seed corpora of fuzz_avro_decode and fuzz_json_avro: for every
topic of the catalog and every branch of its data union, one small valid
message, as Avro binary in the Confluent wire format and as JSON (Avro JSON
and plain). The topic schemas come from the fuzz build itself, exactly as the
catalog assembles them:
    printf "\\0\\0{}" > /tmp/one; FUZZ_DUMP_TOPICS=/tmp/t build-fuzz/fuzz_json_avro /tmp/one
    tests/fuzz/make_seeds.py /tmp/t tests/fuzz/corpus
Re-run when the schemas change (a stale seed is still a valid input)."""
import json, os, struct, sys

def zigzag(n):
    n = (n << 1) ^ (n >> 63)
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)

class Names:
    def __init__(self):
        self.types = {}
    def full(self, name, ns):
        return name if '.' in name or not ns else ns + '.' + name
    def resolve(self, t, ns):
        if isinstance(t, str) and t not in PRIMS:
            return self.types.get(self.full(t, ns)) or self.types[t]
        return t
    def define(self, t, ns):
        if isinstance(t, dict) and t.get('type') in ('record', 'enum', 'fixed'):
            ns = t.get('namespace', ns)
            full = self.full(t['name'], ns)
            t['_full'] = full
            t['_ns'] = full.rsplit('.', 1)[0] if '.' in full else ''
            self.types[full] = t
            self.types.setdefault(t['name'], t)
        return ns

PRIMS = {'null', 'boolean', 'int', 'long', 'float', 'double', 'bytes', 'string'}

def branch_name(t):
    if isinstance(t, str):
        return t
    if t.get('type') in ('record', 'enum', 'fixed'):
        return t['_full']
    return t['type']

def value(t, ns, names, out_bin, mode, pick=None):
    """Appends t's binary to out_bin and returns its JSON in mode ('avro'|'plain')."""
    if isinstance(t, list):
        idx = pick if pick is not None else next((i for i, b in enumerate(t) if b != 'null'), 0)
        out_bin += zigzag(idx)
        b = names.resolve(t[idx], ns)
        if isinstance(b, dict):
            names.define(b, ns)
        v = value(b, ns, names, out_bin, mode)
        if b == 'null' or mode == 'plain':
            return v
        return {branch_name(b): v}
    t = names.resolve(t, ns)
    if isinstance(t, str):
        if t == 'null':
            return None
        if t == 'boolean':
            out_bin += b'\x01'; return True
        if t in ('int', 'long'):
            out_bin += zigzag(1); return 1
        if t == 'float':
            out_bin += struct.pack('<f', 1.5); return 1.5
        if t == 'double':
            out_bin += struct.pack('<d', 1.5); return 1.5
        if t in ('string', 'bytes'):
            out_bin += zigzag(1) + b'x'; return 'x'
    kind = t['type']
    if kind in ('record', 'enum', 'fixed'):
        ns = names.define(t, ns)
        ns = t['_ns']
    if kind == 'record':
        obj = {}
        for f in t['fields']:
            obj[f['name']] = value(f['type'], ns, names, out_bin, mode)
        return obj
    if kind == 'enum':
        out_bin += zigzag(0); return t['symbols'][0]
    if kind == 'fixed':
        out_bin += b'\x00' * t['size']; return '\u0000' * t['size']
    if kind == 'array':
        out_bin += zigzag(1)
        items = [value(t['items'], ns, names, out_bin, mode)]
        out_bin += zigzag(0)
        return items
    if kind == 'map':
        out_bin += zigzag(1) + zigzag(1) + b'k'
        v = {'k': value(t['values'], ns, names, out_bin, mode)}
        out_bin += zigzag(0)
        return v
    if kind in PRIMS:
        lt = t.get('logicalType')
        if lt in ('timestamp-millis',):
            out_bin += zigzag(1700000000000); return 1700000000000
        return value(kind, ns, names, out_bin, mode)
    raise SystemExit('unknown type %r' % (t,))

def define_all(t, ns, names):
    """Registers every named type of t (a later branch may use a name an
    earlier one defined)."""
    if isinstance(t, list):
        for b in t:
            define_all(b, ns, names)
    elif isinstance(t, dict):
        if t.get('type') in ('record', 'enum', 'fixed'):
            names.define(t, ns)
            ns = t['_ns']
        for f in t.get('fields', []):
            define_all(f['type'], ns, names)
        for k in ('items', 'values'):
            if k in t:
                define_all(t[k], ns, names)

def message(schema, branch, mode):
    names = Names()
    define_all(schema, '', names)
    out = bytearray()
    obj = {}
    for f in schema['fields']:
        pick = branch if f['name'] == 'data' else None
        obj[f['name']] = value(f['type'], schema['_ns'], names, out, mode, pick)
    return obj, bytes(out)

def main(src, dest):
    for d in ('fuzz_avro_decode', 'fuzz_json_avro'):
        os.makedirs(os.path.join(dest, d), exist_ok=True)
    for fname in sorted(os.listdir(src)):
        index = int(fname.split('.', 1)[0])
        topic = fname.split('.', 1)[1][:-len('.json')]
        schema = json.load(open(os.path.join(src, fname)))
        data = next(f for f in schema['fields'] if f['name'] == 'data')
        for b in range(len(data['type'])):
            avro_json, body = message(json.loads(json.dumps(schema)), b, 'avro')
            plain_json, _ = message(json.loads(json.dumps(schema)), b, 'plain')
            name = '%s.%d' % (topic, b)
            with open(os.path.join(dest, 'fuzz_avro_decode', name), 'wb') as f:
                f.write(bytes([index]) + b'\x00' + struct.pack('>i', 7) + body)
            with open(os.path.join(dest, 'fuzz_json_avro', name + '.avro-json'), 'wb') as f:
                f.write(bytes([index, 0]) + json.dumps(avro_json).encode())
            with open(os.path.join(dest, 'fuzz_json_avro', name + '.plain'), 'wb') as f:
                f.write(bytes([index, 1]) + json.dumps(plain_json).encode())

if __name__ == '__main__':
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    main(sys.argv[1], sys.argv[2])
