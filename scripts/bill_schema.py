"""Print the bill schema in Markdown, generated from the codebook, or write it into README.md.

    python scripts/bill_schema.py                    # print
    python scripts/bill_schema.py --write README.md  # replace the block between the markers

The block sits between ``<!-- bill-schema:start -->`` and ``<!-- bill-schema:end -->``;
``tests/prediction/test_bill_schema.py`` checks that README.md's block equals this output.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
START, END = "<!-- bill-schema:start -->", "<!-- bill-schema:end -->"


def markdown() -> str:
    if str(ROOT) not in sys.path:        # this checkout's package, not another installed copy
        sys.path.insert(0, str(ROOT))
    from bayes_coalition import load_dataset
    from bayes_coalition.prediction.bills import schema_markdown

    return schema_markdown(load_dataset().codebook)


def replace_block(text: str, block: str) -> str:
    """``text`` with the lines between the markers replaced by ``block``; ValueError without the markers."""
    i, j = text.find(START), text.find(END)
    if i < 0 or j < i:
        raise ValueError(f"the markers {START} ... {END} are not in the file (in that order)")
    return text[:i + len(START)] + "\n" + block + text[j:]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--write", metavar="README", help="replace the block between the markers in this file")
    args = p.parse_args(argv)
    block = markdown()
    if args.write is None:
        sys.stdout.write(block)
        return 0
    path = Path(args.write)
    try:
        path.write_text(replace_block(path.read_text(encoding="utf-8"), block), encoding="utf-8")
    except (OSError, ValueError) as err:
        print(f"{path}: {err}", file=sys.stderr)
        return 2
    print(f"wrote the bill schema into {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
