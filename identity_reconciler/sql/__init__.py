"""Azure SQL contained database users and database roles: T-SQL plan and apply."""
