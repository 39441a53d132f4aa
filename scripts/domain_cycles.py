#!/usr/bin/env python3
"""Fails when the domain's modules (or the crate's layers) depend on each other in a circle.

Reads `super::x` and `crate::domain::x` references of each `shared/src/domain` module
(tests excluded), and the crate's layers' `crate::<layer>` references, and prints every
circle. Run by scripts/test."""
import glob, os, re, sys

def refs(path, pattern):
    s = open(path).read()
    s = re.sub(r'#\[cfg\(test\)\]\s*mod tests \{.*', '', s, flags=re.S)
    s = re.sub(r'//[^\n]*', '', s)  # comments name modules without depending on them
    return set(re.findall(pattern, s))

def cycles(graph):
    found = set()
    def walk(n, path):
        for d in sorted(graph.get(n, ())):
            if d in path:
                c = path[path.index(d):]
                found.add(tuple(c[c.index(min(c)):] + c[:c.index(min(c))]))
            elif len(path) < 12:
                walk(d, path + [d])
    for n in graph:
        walk(n, [n])
    return found

root = os.path.join(os.path.dirname(__file__), '..', 'shared', 'src')
domain = {}
for f in glob.glob(os.path.join(root, 'domain', '**', '*.rs'), recursive=True):
    rel = os.path.relpath(f, os.path.join(root, 'domain'))
    top = rel.split(os.sep)[0].removesuffix('.rs')
    if top == 'mod':
        continue
    deps = refs(f, r'(?:super|crate::domain)::([a-z_]+)')
    domain.setdefault(top, set()).update(
        d for d in deps if d != top and (os.path.exists(os.path.join(root, 'domain', d + '.rs'))
                                         or os.path.isdir(os.path.join(root, 'domain', d))))
layers = {}
for layer in ['domain', 'table', 'db', 'cases', 'queue', 'blobs', 'payments', 'http', 'api', 'workers']:
    for f in glob.glob(os.path.join(root, layer, '**', '*.rs'), recursive=True) + glob.glob(os.path.join(root, layer + '.rs')):
        deps = refs(f, r'crate::([a-z_]+)')
        layers.setdefault(layer, set()).update(d for d in deps if d != layer and d in
            {'domain', 'table', 'db', 'cases', 'queue', 'blobs', 'payments', 'http', 'api', 'workers'})
bad = [('domain', c) for c in sorted(cycles(domain))] + [('layers', c) for c in sorted(cycles(layers))]
# Ties that make "where does this happen" ambiguous: handlers call cases, not workers;
# the persistence layer sends nothing and knows no use case; the domain knows no layer.
FORBIDDEN = [('api', 'workers'), ('db', 'queue'), ('db', 'cases'), ('workers', 'api'),
             ('domain', 'db'), ('domain', 'cases'), ('domain', 'table'), ('domain', 'api')]
for a, b in FORBIDDEN:
    if b in layers.get(a, set()):
        bad.append(('tie', (a, b)))
for kind, c in bad:
    if kind == 'tie':
        print(f"forbidden tie: {c[0]} -> {c[1]}")
    else:
        print(f"{kind} circle: {' -> '.join(c + (c[0],))}")
if bad:
    sys.exit(1)
print(f"no circle among {len(domain)} domain modules and {len(layers)} layers, and no forbidden tie")
