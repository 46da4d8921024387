"""audit records name their rows (issue #17): an index to find a record's history, and the repair of
records written before every insert carried its row's id

Until now an insert through a form was recorded with an empty entity id (the id was read before the
database had given it), and a bulk write (dataset load, GIS import) left one ``bulk_insert`` record
per table with the id range in its note, so a record's history page never showed its creation.

What this revision repairs:
- insert records with an empty id get it from the values they hold (``after``): every table's id,
  a region's code, an enterprise tag's (enterprise_id, tag), a park scope's (user_id, park_id);
- each row in the id range of a ``bulk_insert`` record gets an insert record of its own, with the
  bulk record's time and actor and a note pointing at it. It holds the row's values where the row
  has not changed since (no update record); otherwise no values, and the note says they were not
  recorded one by one. The bulk records themselves are kept.

What it cannot repair: ``bulk_insert`` records of tables without ids (regions, enterprise tags) name
no rows, and rows deleted since have no values left; both are left as they were.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29
"""
import re

from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

_KEYS = {'jurisdiction': ('code',), 'enterprise_tag': ('enterprise_id', 'tag'), 'user_park_scope': ('user_id', 'park_id')}
_RANGE = re.compile(r'ids (\d+)–(\d+)')


def _field(bind, name: str) -> str:
    return f"(after ->> '{name}')" if bind.dialect.name == 'postgresql' else f"CAST(json_extract(after, '$.{name}') AS TEXT)"


def _row_json(bind, table: str, alias: str) -> str:
    """SQL for the JSON object of a row's columns as stored (geometry as WKT), as of this revision."""
    pairs = []
    for col in sa.inspect(bind).get_columns(table):
        name, kind = col['name'], str(col['type']).lower()
        if name == 'password_hash':
            continue
        ref = f'{alias}.{name}'
        if 'geometry' in kind or 'multipolygon' in kind:
            value = f'ST_AsText({ref}, 9)' if bind.dialect.name == 'postgresql' else f'AsText({ref})'
        elif bind.dialect.name == 'sqlite' and 'bool' in kind:
            value = f"json(CASE WHEN {ref} IS NULL THEN NULL WHEN {ref} THEN 'true' ELSE 'false' END)"
        elif bind.dialect.name == 'sqlite' and 'json' in kind:
            value = f'json({ref})'
        else:
            value = ref
        pairs.append(f"'{name}', {value}")
    fn = 'json_build_object' if bind.dialect.name == 'postgresql' else 'json_object'
    return f"{fn}({', '.join(pairs)})"


def upgrade() -> None:
    with op.batch_alter_table('audit_record', schema=None) as batch_op:
        batch_op.create_index('ix_audit_record_entity', ['entity', 'entity_id'], unique=False)
    bind = op.get_bind()
    tables = set(sa.inspect(bind).get_table_names())

    # Insert records without their row's id: read it from the values they hold.
    missing = "action = 'insert' AND (entity_id IS NULL OR entity_id = '')"
    for entity, keys in _KEYS.items():
        ident = " || ',' || ".join(_field(bind, k) for k in keys)
        op.execute(f"UPDATE audit_record SET entity_id = {ident} WHERE {missing} AND entity = '{entity}'")
    op.execute(f"UPDATE audit_record SET entity_id = {_field(bind, 'id')} WHERE {missing} "
               f"AND entity NOT IN ({', '.join(repr(e) for e in _KEYS)})")

    # Rows written in bulk: an insert record each, from the bulk record that covers them.
    bulk = bind.execute(sa.text("SELECT id, entity, note FROM audit_record WHERE action = 'bulk_insert' "
                                "ORDER BY id")).all()
    for record_id, entity, note in bulk:
        found = _RANGE.search(note or '')
        if found is None or entity not in tables or 'id' not in {c['name'] for c in sa.inspect(bind).get_columns(entity)}:
            continue  # names no rows: left as it was (see above)
        low, high = int(found.group(1)), int(found.group(2))
        changed = (f"EXISTS (SELECT 1 FROM audit_record u WHERE u.entity = '{entity}' "
                   f"AND u.entity_id = CAST(t.id AS TEXT) AND u.action = 'update')")
        kept = f"批量写入（审计记录 #{record_id}）"
        op.execute(
            f"INSERT INTO audit_record (at, actor, action, entity, entity_id, before, after, note) "
            f"SELECT b.at, b.actor, 'insert', b.entity, CAST(t.id AS TEXT), NULL, "
            f"CASE WHEN {changed} THEN NULL ELSE {_row_json(bind, entity, 't')} END, "
            f"CASE WHEN {changed} THEN '{kept}；创建时的值未逐条记录，此后已修改' ELSE '{kept}' END "
            f"FROM {entity} t, audit_record b WHERE b.id = {record_id} AND t.id BETWEEN {low} AND {high} "
            f"AND NOT EXISTS (SELECT 1 FROM audit_record x WHERE x.entity = '{entity}' "
            f"AND x.entity_id = CAST(t.id AS TEXT) AND x.action = 'insert')")


def downgrade() -> None:
    # The repaired ids and the insert records made from bulk records are kept: they are true, and
    # the older code reads them like any other record.
    with op.batch_alter_table('audit_record', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_record_entity')
