"""``python -m autograd.playground``: the live playground (its code is `show/playground.py`)."""

from .show.playground import main

if __name__ == "__main__":
    raise SystemExit(main())
