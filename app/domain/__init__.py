"""The law as code: pure Python, no Flask, no SQLAlchemy.

Everything here is deterministic given its inputs (dates are passed in, never read
from the clock), so it can be tested exhaustively with real calendar dates.
"""
