#!/usr/bin/env python3
"""A RevMan 5 file the size of a large Cochrane review, for the import benchmark (BENCHMARKS.md).

Real reviews have 50-150 analyses; the real file we may use has 21. This script copies the
comparisons of `antibiotics-for-sore-throat.rm5` (with their data and the results RevMan stored
for that data, so every stored number stays RevMan's own) under new comparison numbers until the
review holds N analyses (default 113), and writes it in the file's encoding (ISO-8859-1).

Usage: python3 bench/revman_large.py ../shared/revman/antibiotics-for-sore-throat.rm5 OUT.rm5 [N]
"""
import copy
import sys
import xml.etree.ElementTree as ET


def main(source, out, wanted=113):
    tree = ET.parse(source)
    data = tree.getroot().find("ANALYSES_AND_DATA")
    originals = data.findall("COMPARISON")
    outcomes = lambda c: [o for o in c if o.tag.endswith("_OUTCOME")]
    total = sum(len(outcomes(c)) for c in originals)
    number = len(originals)
    while total < wanted:
        for c in originals:
            if total >= wanted:
                break
            number += 1
            clone = copy.deepcopy(c)
            clone.set("NO", str(number))
            clone.set("ID", "CMP-%03d" % number)
            name = clone.find("NAME")
            name.text = "%s (copy %d)" % (name.text, number)
            kept = outcomes(clone)[: wanted - total]
            for o in outcomes(clone):
                if o not in kept:
                    clone.remove(o)
            for o in clone.iter():
                if o.tag.endswith("_OUTCOME") or o.tag.endswith("_SUBGROUP"):
                    o.set("ID", o.get("ID").replace(c.get("ID"), clone.get("ID"), 1))
            data.append(clone)
            total += len(kept)
    tree.write(out, encoding="ISO-8859-1", xml_declaration=True)
    print("%s: %d analyses in %d comparisons" % (out, total, number))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else 113)
