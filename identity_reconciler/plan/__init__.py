"""DesiredState x LiveState -> Plan (versioned JSON), safety checks, renderers."""
