"""Seeing the calculation: graph drawings (`draw.py`), the hand calculation as text
(`explain.py`, with how each op is written in `explain_writers.py` and how numbers are
written in `explain_numbers.py`), the step-through page (`html.py`, `page.html`) and the
live playground (`playground.py`)."""
