"""Demo data for Switchboard: a knowledge base of runbooks (``kb/``) and a billing ledger.

A package only so that ``importlib.resources.files("agents.demo")`` finds the files when
Switchboard is installed as a wheel.
"""
