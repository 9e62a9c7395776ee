#!/usr/bin/env python3
"""Fails unless a source file appears verbatim in a Markdown document (in a code block).

  scripts/check_doc_example.py <doc.md> <source>

Keeps a guide's worked example identical to the file that is compiled and tested.
"""
import sys
from pathlib import Path

if len(sys.argv) != 3:
    print(__doc__, file=sys.stderr)
    sys.exit(2)
doc, src = Path(sys.argv[1]), Path(sys.argv[2])
if src.read_text().rstrip("\n") not in doc.read_text():
    print(f"check_doc_example: {doc} does not contain the current {src}; paste it into its code block",
          file=sys.stderr)
    sys.exit(1)
print(f"check_doc_example: {doc} holds {src} verbatim")
