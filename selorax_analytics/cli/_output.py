"""How the command line prints tables: readable text, ``--json`` or ``--csv``, or ``--out``.

Text goes through :func:`selorax_analytics.presentation.tables.text_table`, the rules of
``sa.style``: money in taka, shares as percentages, counts with separators, times in Dhaka,
cohort cells not reached yet blank and the running period marked. ``--json`` and ``--csv`` keep
the raw numbers at full precision.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from selorax_analytics._files import write_file


def jsonable(frame: pd.DataFrame) -> list[dict[str, Any]]:
    text = frame.to_json(orient="records", date_format="iso", date_unit="s", force_ascii=False)
    return list(json.loads(text))


def flat_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Index as columns, column labels as text: the shape scripts want."""
    out = frame.reset_index() if frame.index.name is not None else frame.copy()
    out.columns = [str(c) for c in out.columns]
    for column in out.columns:
        if isinstance(out[column].dtype, pd.PeriodDtype):
            out[column] = out[column].astype("str")
    return out


def table_text(frame: pd.DataFrame) -> str:
    """A result frame as people read it (its index shown when it has a name)."""
    from selorax_analytics.presentation.tables import text_table

    return text_table(frame)


def emit(args: argparse.Namespace, tables: dict[str, pd.DataFrame], notes: Sequence[str]) -> None:
    """Print (or write to ``--out``) one or more tables in the shape asked for."""
    flat = {name: flat_frame(t) for name, t in tables.items()}
    if args.json:
        payload: Any = {n: jsonable(t) for n, t in flat.items()}
        if len(payload) == 1:
            payload = next(iter(payload.values()))
        text = json.dumps(payload, indent=2, ensure_ascii=False) + "\n"
    elif args.csv:
        parts = [t.to_csv(index=False) for t in flat.values()]
        text = (
            "\n".join(parts)
            if len(parts) == 1
            else "\n".join(f"# {n}\n{p}" for n, p in zip(flat, parts, strict=True))
        )
    else:
        # the frames as returned: their index and attrs (cohort periods) steer the display
        blocks = [
            (f"{n}\n{table_text(t)}" if len(tables) > 1 else table_text(t))
            for n, t in tables.items()
        ]
        text = "\n\n".join([*blocks, *notes]) + "\n"
    out = getattr(args, "out", None)
    if out:
        # Refused if it exists (unless --overwrite); whole or not at all; owner-only.
        write_file(Path(out), text.encode("utf-8"), overwrite=getattr(args, "overwrite", False))
        print(f"wrote {out}", file=sys.stderr)
    else:
        sys.stdout.write(text)
