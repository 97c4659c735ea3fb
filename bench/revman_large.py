#!/usr/bin/env python3
"""A RevMan 5 file the size of a large Cochrane review, for the import benchmark (BENCHMARKS.md).

Real reviews have 50-150 analyses; the real file we may use has 21. This script copies the
comparisons of `antibiotics-for-sore-throat.rm5` (with their data and the results RevMan stored
for that data, so every stored number stays RevMan's own) under new comparison numbers until the
review holds N analyses (default 113), and writes it in the file's encoding (ISO-8859-1).

With --whole, each pass over the comparisons also gets its own copy of the review's studies
(included and excluded, with their references, characteristics and risk-of-bias judgements:
"Brink 1951" becomes "Brink 1951 (set 2)") and the copied analyses name them, so the file has
as many studies, references and judgements as analyses would bring in a real review of that
size (a real 113-analysis Cochrane file is about 4 MB).

Usage: python3 bench/revman_large.py ../shared/revman/antibiotics-for-sore-throat.rm5 OUT.rm5 [N] [--whole]
"""
import copy
import sys
import xml.etree.ElementTree as ET


def copy_studies(root, r):
    """Copy every study of the review as set r; return the old → new study ID map."""
    ids = {}
    for kind in ("INCLUDED_STUDIES", "EXCLUDED_STUDIES"):
        parent = root.find("STUDIES_AND_REFERENCES/STUDIES/" + kind)
        for study in [s for s in parent.findall("STUDY") if "-set" not in s.get("ID")]:
            clone = copy.deepcopy(study)
            new = "%s-set%d" % (study.get("ID"), r)
            ids[study.get("ID")] = new
            clone.set("ID", new)
            clone.set("NAME", "%s (set %d)" % (study.get("NAME"), r))
            for ref in clone.iter("REFERENCE"):
                ref.set("ID", "%s-set%d" % (ref.get("ID"), r))
            parent.append(clone)
    for kind in ("CHARACTERISTICS_OF_INCLUDED_STUDIES", "CHARACTERISTICS_OF_EXCLUDED_STUDIES"):
        parent = root.find("CHARACTERISTICS_OF_STUDIES/" + kind)
        for char in [c for c in parent if c.get("STUDY_ID") in ids]:  # originals only: ids has no "-set" keys
            clone = copy.deepcopy(char)
            clone.set("STUDY_ID", ids[char.get("STUDY_ID")])
            parent.insert(list(parent).index(char) + 1, clone)
    for data in root.iter("QUALITY_ITEM_DATA"):
        for entry in [e for e in data if e.get("STUDY_ID") in ids]:
            clone = copy.deepcopy(entry)
            clone.set("STUDY_ID", ids[entry.get("STUDY_ID")])
            data.append(clone)
    return ids


def main(source, out, wanted=113, whole=False):
    tree = ET.parse(source)
    data = tree.getroot().find("ANALYSES_AND_DATA")
    originals = data.findall("COMPARISON")
    outcomes = lambda c: [o for o in c if o.tag.endswith("_OUTCOME")]
    total = sum(len(outcomes(c)) for c in originals)
    number = len(originals)
    passes = 0
    while total < wanted:
        passes += 1
        ids = copy_studies(tree.getroot(), passes + 1) if whole else {}
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
                if o.get("STUDY_ID") in ids:
                    o.set("STUDY_ID", ids[o.get("STUDY_ID")])
            data.append(clone)
            total += len(kept)
    tree.write(out, encoding="ISO-8859-1", xml_declaration=True)
    studies = len(tree.getroot().findall("STUDIES_AND_REFERENCES/STUDIES/INCLUDED_STUDIES/STUDY"))
    print("%s: %d analyses in %d comparisons, %d included studies" % (out, total, number, studies))


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if a != "--whole"]
    main(args[0], args[1], int(args[2]) if len(args) > 2 else 113, "--whole" in sys.argv)
