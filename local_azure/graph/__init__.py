"""A minimal Microsoft Graph v1.0 for the emulator's directory (see `directory`)."""

from local_azure.graph.directory import GRAPH_APP_ID, PREFIX, graph_root, register

__all__ = ["GRAPH_APP_ID", "PREFIX", "graph_root", "register"]
