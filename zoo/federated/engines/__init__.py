"""Engines run the client side of a round: ``local`` (in process), ``ray`` and ``flower`` (optional extra)."""
