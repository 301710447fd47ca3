"""The one boundary to Azure: SDK clients, live-state reader, plan executor, error mapping."""
