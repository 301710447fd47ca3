"""Package data: the built-in role catalog and the default emulator world."""
