"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-23
"""
from alembic import op
import sqlalchemy as sa
from geoalchemy2 import Geometry

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


SPATIAL_INDEXES = ["idx_park_boundary", "idx_plot_geom", "idx_building_footprint"]


def upgrade() -> None:
    is_pg = op.get_bind().dialect.name == "postgresql"
    if is_pg:
        op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
        op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")  # for the lease exclusion constraint
    op.create_table('app_user',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('display_name', sa.String(length=64), nullable=True),
    sa.Column('password_hash', sa.String(length=256), nullable=False),
    sa.Column('role', sa.Enum('admin', 'park_manager', 'investment', 'viewer', name='role', native_enum=False, create_constraint=True, length=24), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('username')
    )
    op.create_table('audit_record',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('entity', sa.String(length=32), nullable=False),
    sa.Column('entity_id', sa.String(length=64), nullable=True),
    sa.Column('before', sa.JSON(), nullable=True),
    sa.Column('after', sa.JSON(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('audit_record', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_record_at'), ['at'], unique=False)

    op.create_table('enterprise',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uscc', sa.String(length=18), nullable=False),
    sa.Column('name', sa.String(length=128), nullable=False),
    sa.Column('industry_code', sa.String(length=4), nullable=True),
    sa.Column('above_scale', sa.Boolean(), nullable=False),
    sa.Column('production_start', sa.Date(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('uscc')
    )
    with op.batch_alter_table('enterprise', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_enterprise_industry_code'), ['industry_code'], unique=False)

    op.create_table('jurisdiction',
    sa.Column('code', sa.String(length=6), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('parent_code', sa.String(length=6), nullable=True),
    sa.ForeignKeyConstraint(['parent_code'], ['jurisdiction.code'], ),
    sa.PrimaryKeyConstraint('code')
    )
    op.create_table('annual_indicator',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('enterprise_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('revenue_wan', sa.Float(), nullable=True),
    sa.Column('value_added_wan', sa.Float(), nullable=True),
    sa.Column('tax_paid_wan', sa.Float(), nullable=True),
    sa.Column('electricity_kwh', sa.Float(), nullable=True),
    sa.Column('natural_gas_m3', sa.Float(), nullable=True),
    sa.Column('coal_t', sa.Float(), nullable=True),
    sa.Column('energy_tce', sa.Float(), nullable=True),
    sa.Column('emissions_t', sa.Float(), nullable=True),
    sa.Column('rnd_wan', sa.Float(), nullable=True),
    sa.Column('employees_avg', sa.Float(), nullable=True),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprise.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('enterprise_id', 'year')
    )
    with op.batch_alter_table('annual_indicator', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_annual_indicator_enterprise_id'), ['enterprise_id'], unique=False)

    op.create_table('enterprise_tag',
    sa.Column('enterprise_id', sa.Integer(), nullable=False),
    sa.Column('tag', sa.Enum('little_giant', 'specialized_sme', 'high_tech', 'tech_sme', 'green_factory', name='enterprisetag', native_enum=False, create_constraint=True, length=24), nullable=False),
    sa.Column('since_year', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprise.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('enterprise_id', 'tag')
    )
    op.create_geospatial_table('park',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=128), nullable=False),
    sa.Column('level', sa.Enum('national', 'provincial', 'municipal', 'county', name='parklevel', native_enum=False, create_constraint=True, length=24), nullable=False),
    sa.Column('jurisdiction_code', sa.String(length=6), nullable=False),
    sa.Column('operator', sa.String(length=128), nullable=True),
    sa.Column('boundary', Geometry(geometry_type='MULTIPOLYGON', srid=4490, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry'), nullable=True),
    sa.Column('planned_area_mu', sa.Float(), nullable=True),
    sa.Column('built_area_mu', sa.Float(), nullable=True),
    sa.Column('contact_name', sa.String(length=64), nullable=True),
    sa.Column('contact_phone', sa.String(length=32), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint('built_area_mu IS NULL OR built_area_mu >= 0', name='park_built_nonneg'),
    sa.CheckConstraint('planned_area_mu IS NULL OR planned_area_mu > 0', name='park_planned_positive'),
    sa.ForeignKeyConstraint(['jurisdiction_code'], ['jurisdiction.code'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('name')
    )
    with op.batch_alter_table('park', schema=None) as batch_op:
        batch_op.create_geospatial_index('idx_park_boundary', ['boundary'], unique=False, postgresql_using='gist', postgresql_ops={})

    op.create_geospatial_table('plot',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('park_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('geom', Geometry(geometry_type='MULTIPOLYGON', srid=4490, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.Column('certificate_area_m2', sa.Float(), nullable=True),
    sa.Column('computed_area_m2', sa.Float(), nullable=False),
    sa.Column('land_use', sa.Enum('industrial', 'warehousing', 'commercial', 'public', 'transport', 'other', name='landuse', native_enum=False, create_constraint=True, length=24), nullable=False),
    sa.Column('rights_type', sa.Enum('transfer', 'lease', 'allocation', name='rightstype', native_enum=False, create_constraint=True, length=24), nullable=True),
    sa.Column('holder_id', sa.Integer(), nullable=True),
    sa.Column('certificate_no', sa.String(length=64), nullable=True),
    sa.Column('supply_date', sa.Date(), nullable=True),
    sa.Column('supply_price_wan', sa.Float(), nullable=True),
    sa.Column('status', sa.Enum('unsupplied', 'supplied', 'idle', 'low_efficiency', name='plotstatus', native_enum=False, create_constraint=True, length=24), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint('certificate_area_m2 IS NULL OR certificate_area_m2 > 0', name='plot_cert_positive'),
    sa.CheckConstraint('computed_area_m2 > 0', name='plot_area_positive'),
    sa.ForeignKeyConstraint(['holder_id'], ['enterprise.id'], ),
    sa.ForeignKeyConstraint(['park_id'], ['park.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('certificate_no'),
    sa.UniqueConstraint('park_id', 'code')
    )
    with op.batch_alter_table('plot', schema=None) as batch_op:
        batch_op.create_geospatial_index('idx_plot_geom', ['geom'], unique=False, postgresql_using='gist', postgresql_ops={})
        batch_op.create_index(batch_op.f('ix_plot_holder_id'), ['holder_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_plot_park_id'), ['park_id'], unique=False)

    op.create_table('user_park_scope',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('park_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['park_id'], ['park.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['app_user.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'park_id')
    )
    op.create_geospatial_table('building',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('park_id', sa.Integer(), nullable=False),
    sa.Column('plot_id', sa.Integer(), nullable=True),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=128), nullable=True),
    sa.Column('footprint', Geometry(geometry_type='MULTIPOLYGON', srid=4490, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.Column('footprint_area_m2', sa.Float(), nullable=False),
    sa.Column('type', sa.Enum('standard_factory', 'factory', 'supporting', 'dormitory', 'rnd', 'warehouse', name='buildingtype', native_enum=False, create_constraint=True, length=24), nullable=False),
    sa.Column('status', sa.Enum('planned', 'under_construction', 'completed', name='buildingstatus', native_enum=False, create_constraint=True, length=24), nullable=False),
    sa.Column('construction_mode', sa.Enum('self_built', 'entrusted', 'cooperative', 'ppp', 'epc', 'other', name='constructionmode', native_enum=False, create_constraint=True, length=24), nullable=True),
    sa.Column('floors_above', sa.Integer(), nullable=False),
    sa.Column('gfa_m2', sa.Float(), nullable=False),
    sa.Column('structure', sa.Enum('steel', 'frame', 'brick_concrete', 'other', name='structure', native_enum=False, create_constraint=True, length=24), nullable=True),
    sa.Column('crane_tonnage_t', sa.Float(), nullable=True),
    sa.Column('power_kva', sa.Float(), nullable=True),
    sa.Column('completion_date', sa.Date(), nullable=True),
    sa.Column('last_verified', sa.Date(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint('floors_above >= 1', name='building_floors_positive'),
    sa.CheckConstraint('gfa_m2 > 0', name='building_gfa_positive'),
    sa.ForeignKeyConstraint(['park_id'], ['park.id'], ),
    sa.ForeignKeyConstraint(['plot_id'], ['plot.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('park_id', 'code')
    )
    with op.batch_alter_table('building', schema=None) as batch_op:
        batch_op.create_geospatial_index('idx_building_footprint', ['footprint'], unique=False, postgresql_using='gist', postgresql_ops={})
        batch_op.create_index(batch_op.f('ix_building_park_id'), ['park_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_building_plot_id'), ['plot_id'], unique=False)

    op.create_table('plot_obligation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('plot_id', sa.Integer(), nullable=False),
    sa.Column('indicator', sa.String(length=64), nullable=False),
    sa.Column('comparator', sa.String(length=2), nullable=False),
    sa.Column('threshold', sa.Float(), nullable=False),
    sa.Column('unit', sa.String(length=32), nullable=False),
    sa.Column('deadline', sa.Date(), nullable=True),
    sa.CheckConstraint("comparator IN ('>=', '<=', '>', '<', '=')", name='obligation_comparator'),
    sa.ForeignKeyConstraint(['plot_id'], ['plot.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('plot_obligation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_plot_obligation_plot_id'), ['plot_id'], unique=False)

    op.create_table('floor',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('building_id', sa.Integer(), nullable=False),
    sa.Column('level', sa.Integer(), nullable=False),
    sa.Column('storey_height_m', sa.Float(), nullable=True),
    sa.Column('floor_load_kn_m2', sa.Float(), nullable=True),
    sa.ForeignKeyConstraint(['building_id'], ['building.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('building_id', 'level')
    )
    op.create_table('unit',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('building_id', sa.Integer(), nullable=False),
    sa.Column('floor_level', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('leasable_area_m2', sa.Float(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint('leasable_area_m2 > 0', name='unit_area_positive'),
    sa.ForeignKeyConstraint(['building_id', 'floor_level'], ['floor.building_id', 'floor.level'], ),
    sa.ForeignKeyConstraint(['building_id'], ['building.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('building_id', 'code')
    )
    with op.batch_alter_table('unit', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_unit_building_id'), ['building_id'], unique=False)

    op.create_table('lease',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('enterprise_id', sa.Integer(), nullable=False),
    sa.Column('contract_no', sa.String(length=64), nullable=True),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('end_date', sa.Date(), nullable=False),
    sa.Column('rent_yuan_m2_month', sa.Float(), nullable=True),
    sa.Column('rent_free_months', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint('end_date > start_date', name='lease_interval'),
    sa.CheckConstraint('rent_free_months >= 0', name='lease_rent_free_nonneg'),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprise.id'], ),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('lease', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lease_enterprise_id'), ['enterprise_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_lease_unit_id'), ['unit_id'], unique=False)

    op.create_table('rent_relief',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('lease_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=64), nullable=False),
    sa.Column('amount_yuan', sa.Float(), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('end_date', sa.Date(), nullable=False),
    sa.CheckConstraint('amount_yuan >= 0', name='relief_amount_nonneg'),
    sa.CheckConstraint('end_date > start_date', name='relief_interval'),
    sa.ForeignKeyConstraint(['lease_id'], ['lease.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('rent_relief', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rent_relief_lease_id'), ['lease_id'], unique=False)

    if is_pg:
        # Belt and braces: the application refuses overlapping leases on flush; on PostgreSQL the
        # database refuses them too, even from two transactions racing each other.
        op.execute("ALTER TABLE lease ADD CONSTRAINT lease_no_overlap EXCLUDE USING gist "
                   "(unit_id WITH =, daterange(start_date, end_date) WITH &&)")


def downgrade() -> None:
    with op.batch_alter_table('rent_relief', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rent_relief_lease_id'))

    op.drop_table('rent_relief')
    with op.batch_alter_table('lease', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_lease_unit_id'))
        batch_op.drop_index(batch_op.f('ix_lease_enterprise_id'))

    op.drop_table('lease')
    with op.batch_alter_table('unit', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_unit_building_id'))

    op.drop_table('unit')
    op.drop_table('floor')
    with op.batch_alter_table('plot_obligation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_plot_obligation_plot_id'))

    op.drop_table('plot_obligation')
    with op.batch_alter_table('building', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_building_plot_id'))
        batch_op.drop_index(batch_op.f('ix_building_park_id'))
        batch_op.drop_geospatial_index('idx_building_footprint', postgresql_using='gist', column_name='footprint')

    op.drop_geospatial_table('building')
    op.drop_table('user_park_scope')
    with op.batch_alter_table('plot', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_plot_park_id'))
        batch_op.drop_index(batch_op.f('ix_plot_holder_id'))
        batch_op.drop_geospatial_index('idx_plot_geom', postgresql_using='gist', column_name='geom')

    op.drop_geospatial_table('plot')
    with op.batch_alter_table('park', schema=None) as batch_op:
        batch_op.drop_geospatial_index('idx_park_boundary', postgresql_using='gist', column_name='boundary')

    op.drop_geospatial_table('park')
    op.drop_table('enterprise_tag')
    with op.batch_alter_table('annual_indicator', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_annual_indicator_enterprise_id'))

    op.drop_table('annual_indicator')
    op.drop_table('jurisdiction')
    with op.batch_alter_table('enterprise', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_enterprise_industry_code'))

    op.drop_table('enterprise')
    with op.batch_alter_table('audit_record', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_record_at'))

    op.drop_table('audit_record')
    op.drop_table('app_user')
    if op.get_bind().dialect.name == "sqlite":
        # SpatiaLite leaves the R*Tree tables of dropped spatial indexes behind.
        for name in SPATIAL_INDEXES:
            for suffix in ("", "_node", "_parent", "_rowid"):
                op.execute(f"DROP TABLE IF EXISTS {name}{suffix}")
