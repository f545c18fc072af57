"""How a trial reports its cases to the run, one way for every experiment: a progress line
per case, an error per failed case (named so a reader finds its row) and the trial's own
error (a trial process that crashed or timed out) last, printed too."""

from __future__ import annotations

from typing import Any, Callable, Sequence

Row = dict[str, Any]


def report_cases(rows: Sequence[Row], what: Callable[[Row], str], line: Callable[[int, Row], str] | None,
                 trial_error: str | None, progress: Callable[[str], None]) -> list[str]:
    """Print `line(k, row)` for the k-th row (nothing if `line` is None: the trial printed its
    own), then return the errors: `what(row): error` per row with one, then `trial_error`."""
    if line is not None:
        for k, row in enumerate(rows):
            progress(line(k, row))
    errors = [f"{what(row)}: {row['error']}" for row in rows if row["error"]]
    if trial_error:
        errors.append(trial_error)
        progress(f"  {trial_error}")
    return errors


def case_line(where: str, what: str, row: Row, done: Callable[[Row], str]) -> str:
    """`  [WHERE] WHAT: DONE (W s wall, N packets)`: `done(row)` for a case that finished (a
    failed one has no numbers to format), FAILED and its error otherwise; packets if counted."""
    packets = row.get("packets")
    return (f"  [{where}] {what}: " + (f"FAILED {row['error']}" if row["error"] else done(row))
            + f" ({row['wall_s']:.1f} s wall" + (f", {packets} packets)" if packets is not None else ")"))


def report_seed_major_cases(rows: Sequence[Row], where: str, total: int, done: Callable[[Row], str],
                            trial_error: str | None, progress: Callable[[str], None]) -> list[str]:
    """report_cases for the (kind, scheme, seed) cases of `results.seed_major_cases` at one
    point of the run's sweep (`where`: "300 km", "G=4"), `total` of them planned:
    `  [WHERE K/TOTAL] KIND SCHEME: ...` lines, errors named `WHERE KIND SCHEME seed S`."""
    return report_cases(rows, lambda r: f"{where} {r['kind']} {r['scheme']} seed {r['seed']}",
                        lambda k, r: case_line(f"{where} {k + 1}/{total}", f"{r['kind']} {r['scheme']}", r, done),
                        trial_error, progress)
