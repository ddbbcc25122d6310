-- A small multi-tenant schema: documents kept apart by row security, an audit trail through a
-- SECURITY DEFINER trigger function, a SQL function, a domain, a composite type, an app role's grants.
-- :app is the application's role (smoke_app in baseline.json); smoke_ops gets GRANT ALL, whose
-- MAINTAIN (PostgreSQL 17 on) must not make 15 and 18 differ.
CREATE DOMAIN email AS text NOT NULL CONSTRAINT email_check CHECK (VALUE ~ '^[^@]+@[^@]+$');
CREATE TYPE address AS (street text, city varchar(80));
CREATE TABLE tenants (id int PRIMARY KEY, name text NOT NULL);
CREATE TABLE documents (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id int NOT NULL REFERENCES tenants (id),
    owner email,
    title text NOT NULL,
    shipping address,
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE audit_log (id bigserial PRIMARY KEY, document_id bigint, action text, at timestamptz DEFAULT now());
ALTER TABLE documents ENABLE ROW LEVEL SECURITY;
ALTER TABLE documents FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_read ON documents FOR SELECT TO :app
    USING (tenant_id = current_setting('app.tenant_id')::int);
CREATE POLICY tenant_write ON documents FOR UPDATE TO :app
    USING (tenant_id = current_setting('app.tenant_id')::int)
    WITH CHECK (tenant_id = current_setting('app.tenant_id')::int);
CREATE FUNCTION touch_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END $$;
CREATE TRIGGER documents_touch BEFORE UPDATE ON documents FOR EACH ROW EXECUTE FUNCTION touch_updated_at();
CREATE FUNCTION audit_document() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    INSERT INTO audit_log (document_id, action) VALUES (NEW.id, TG_OP);
    RETURN NEW;
END $$;
CREATE TRIGGER documents_audit AFTER INSERT OR UPDATE ON documents FOR EACH ROW WHEN (pg_trigger_depth() = 0)
    EXECUTE FUNCTION audit_document();
CREATE FUNCTION document_count(tenant integer) RETURNS bigint LANGUAGE sql STABLE
BEGIN ATOMIC
    SELECT count(*) FROM documents WHERE tenant_id = tenant;
END;
CREATE FUNCTION title_of(doc documents) RETURNS text LANGUAGE sql IMMUTABLE RETURN upper(doc.title);
CREATE PROCEDURE archive(before timestamptz) LANGUAGE sql AS $$ DELETE FROM audit_log WHERE at < before $$;
GRANT SELECT, UPDATE ON documents TO :app;
GRANT SELECT ON tenants TO :app;
GRANT INSERT ON audit_log TO :app;
GRANT ALL ON tenants TO smoke_ops;
REVOKE EXECUTE ON FUNCTION audit_document() FROM PUBLIC;
