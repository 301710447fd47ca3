"""One thin module per CLI command: parse arguments, call one layer, render, return an exit code."""
