"""The "Explain this step" panel: chainrule's Explanation as JSON for the page, each matrix as
text, small ones whole, large ones summarised (their first rows and their range)."""

from __future__ import annotations

import numpy as np

from ..explain import format_matrix

def matrix_text(M, decimals=4):
    """A matrix (or vector) as explain prints it: whole if small, else its first rows, shape and range."""
    return "\n".join(format_matrix(np.asarray(M, dtype=np.float64), decimals))


def _step(s, decimals):
    return {"name": s.name, "equation": s.equation, "shapes": s.shapes, "matrix": matrix_text(s.value, decimals),
            "check": None if s.numeric is None else matrix_text(s.numeric, decimals),
            "error": None if s.error is None else float(s.error)}


def explanation_json(ex, rows, batch, optimizer, decimals=4):
    """The trace of one pass as sections of steps; ``rows`` the samples it used of a ``batch``."""
    d = decimals
    sections = [
        {"title": "The numbers before the pass", "steps": [_step(s, d) for s in ex.parameters]},
        {"title": "Forward pass", "steps": [_step(s, d) for s in ex.forward]},
        {"title": "Cost", "steps": [_step(s, d) for s in ex.cost_steps], "text": f"{ex.cost_equation} = {ex.cost:.{d}f}"},
        {"title": "Backward pass", "steps": [_step(s, d) for s in ex.backward]},
        {"title": "Update (plain gradient descent)", "steps": [_step(s, d) for s in ex.update]},
    ]
    note = (f"The batch the next step takes: {rows} sample{'s' if rows != 1 else ''}"
            f"{f', the first {rows} of {batch} (the trace shows at most 16)' if batch > rows else ''}. "
            "Every gradient is shown beside its finite-difference estimate.")
    if optimizer != "sgd":
        note += (f" The update shown is plain gradient descent, W := W - alpha dW; {optimizer} "
                 "scales each step from the same gradients.")
    return {"notation": [list(row) for row in ex.notation], "sections": sections, "cost": float(ex.cost),
            "note": note}
