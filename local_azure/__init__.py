"""Embedded local Azure: an ARM emulator over HTTPS on 127.0.0.1 with state in SQLite.

A separate program that happens to live in this package: it imports nothing from the
reconciler's other layers (an import-linter contract), so clients not written here can rely on
it speaking plain ARM.
"""
