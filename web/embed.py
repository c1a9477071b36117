#!/usr/bin/env python3
"""Embed a text file into C as `const char NAME[]` and `const unsigned long NAME_len`.

Usage: embed.py INPUT OUTPUT NAME (src/http/meson.build: web/consent.js -> consent_js.c).
"""
import sys

src, out, name = sys.argv[1], sys.argv[2], sys.argv[3]
data = open(src, 'rb').read()
with open(out, 'w') as f:
    f.write('/* generated from %s by web/embed.py: do not edit */\n' % src.split('/')[-1])
    f.write('const char %s[] = {\n' % name)
    for i in range(0, len(data), 16):
        f.write('\t' + ', '.join('0x%02x' % b for b in data[i:i + 16]) + ',\n')
    f.write('\t0x00\n};\nconst unsigned long %s_len = %d;\n' % (name, len(data)))
