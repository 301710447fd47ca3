-- sql_user.sql-myapp-prod-uks-01/appdb/id-myapp-prod-uks-01 (create; create_because_not_live)
IF NOT EXISTS (SELECT 1 FROM sys.database_principals WHERE name = N'id-myapp-prod-uks-01') BEGIN CREATE USER [id-myapp-prod-uks-01] FROM EXTERNAL PROVIDER WITH OBJECT_ID = '(known after apply)'; EXEC sys.sp_addextendedproperty @name = N'managed-by', @value = N'identity-reconciler', @level0type = N'USER', @level0name = N'id-myapp-prod-uks-01'; END;
-- sql_role_member.sql-myapp-prod-uks-01/appdb/id-myapp-prod-uks-01/db_datareader (create; create_because_not_live)
IF NOT EXISTS (SELECT 1 FROM sys.database_role_members WHERE role_principal_id = DATABASE_PRINCIPAL_ID(N'db_datareader') AND member_principal_id = DATABASE_PRINCIPAL_ID(N'id-myapp-prod-uks-01')) ALTER ROLE [db_datareader] ADD MEMBER [id-myapp-prod-uks-01];
-- sql_role_member.sql-myapp-prod-uks-01/appdb/id-myapp-prod-uks-01/db_datawriter (create; create_because_not_live)
IF NOT EXISTS (SELECT 1 FROM sys.database_role_members WHERE role_principal_id = DATABASE_PRINCIPAL_ID(N'db_datawriter') AND member_principal_id = DATABASE_PRINCIPAL_ID(N'id-myapp-prod-uks-01')) ALTER ROLE [db_datawriter] ADD MEMBER [id-myapp-prod-uks-01];
