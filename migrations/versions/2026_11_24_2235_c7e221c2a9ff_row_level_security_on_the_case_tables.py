"""Row-level security on the case tables (PostgreSQL only): a second line
behind the application's scoping. See referral_app/rls.py.

Revision ID: c7e221c2a9ff
Revises: 478ddf8d99ca
Create Date: 2026-11-24 22:35:00

"""
from alembic import op

revision = "c7e221c2a9ff"
down_revision = "478ddf8d99ca"
branch_labels = None
depends_on = None

FUNCTIONS = """
CREATE FUNCTION rls_organisation() RETURNS uuid LANGUAGE sql STABLE AS $$
    SELECT NULLIF(current_setting('app.organisation_id', true), '')::uuid
$$;

CREATE FUNCTION rls_bypass() RETURNS boolean LANGUAGE sql STABLE AS $$
    SELECT coalesce(current_setting('app.rls_bypass', true), '') = 'on'
$$;

-- Whether the asking organisation holds a referral (DESIGN section 4). It runs
-- as the tables' owner (SECURITY DEFINER), so the policies below can use it
-- without the referral and share policies recursing into each other.
CREATE FUNCTION rls_holds(referral uuid) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
    SELECT EXISTS (
        SELECT 1 FROM referral r
        WHERE r.id = referral
          AND (
            r.referring_organisation_id = rls_organisation()
            OR (r.receiving_organisation_id = rls_organisation() AND r.submitted_at IS NOT NULL)
            OR EXISTS (
                SELECT 1 FROM share s
                WHERE s.referral_id = r.id
                  AND s.organisation_id = rls_organisation()
                  AND s.revoked_at IS NULL
                  AND s.expires_at > now()
            )
          )
    )
$$;
"""

POLICIES = {
    "referral": (
        "rls_bypass() OR rls_holds(id)",
        "rls_bypass() OR referring_organisation_id = rls_organisation() OR rls_holds(id)",
    ),
    "child": (
        "rls_bypass() OR created_by_organisation_id = rls_organisation() OR EXISTS "
        "(SELECT 1 FROM referral r WHERE r.child_id = child.id AND rls_holds(r.id))",
        "rls_bypass() OR created_by_organisation_id = rls_organisation() OR EXISTS "
        "(SELECT 1 FROM referral r WHERE r.child_id = child.id AND rls_holds(r.id))",
    ),
    "note": (
        "rls_bypass() OR (rls_holds(referral_id) AND "
        "(visibility = 'shared' OR organisation_id = rls_organisation()))",
        "rls_bypass() OR (rls_holds(referral_id) AND organisation_id = rls_organisation())",
    ),
    "share": ("rls_bypass() OR rls_holds(referral_id)", "rls_bypass() OR rls_holds(referral_id)"),
    "status_change": (
        "rls_bypass() OR rls_holds(referral_id)",
        "rls_bypass() OR rls_holds(referral_id)",
    ),
}


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(FUNCTIONS)
    for table, (using, check) in POLICIES.items():
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(
            f"CREATE POLICY {table}_held ON {table} FOR ALL USING ({using}) WITH CHECK ({check})"
        )


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in POLICIES:
        op.execute(f"DROP POLICY IF EXISTS {table}_held ON {table}")
        op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")
    op.execute("DROP FUNCTION IF EXISTS rls_holds(uuid)")
    op.execute("DROP FUNCTION IF EXISTS rls_bypass()")
    op.execute("DROP FUNCTION IF EXISTS rls_organisation()")
