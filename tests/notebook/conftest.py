"""The explorer's tiny digits runs, for the notebook widget's tests."""

from ..explorer.conftest import digits_runs, vae2  # noqa: F401
