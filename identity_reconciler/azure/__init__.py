"""The one boundary to Azure: SDK client factory, live-state reader, writer, error mapping."""
