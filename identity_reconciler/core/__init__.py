"""Pure building blocks shared by every layer: ARM ids, desired/live state types, ownership.

Nothing here performs I/O or imports the Azure SDK; every other layer may import it.
"""
