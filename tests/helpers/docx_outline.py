"""What python-docx (a docx reader Word users' tools are built on) reads in a .docx, as JSON:
the headings with their style names, each table's rows of cell texts, and the number of
inline pictures. Used by tests/docx.rs; needs python3-docx (Debian) or python-docx (PyPI)."""
import json
import sys

import docx

document = docx.Document(sys.argv[1])
headings = [[p.style.name, p.text] for p in document.paragraphs if p.style is not None and p.style.name.lower().startswith("heading")]
tables = [[[cell.text for cell in row.cells] for row in table.rows] for table in document.tables]
print(json.dumps({"headings": headings, "tables": tables, "pictures": len(document.inline_shapes)}))
