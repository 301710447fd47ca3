"""ARM resource providers served by the emulator; each module exposes `register(router)`."""
