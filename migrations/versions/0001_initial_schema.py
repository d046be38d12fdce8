"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-23 10:48:36.453443

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('questionnaires',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=50), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('title', sa.JSON(), nullable=False),
    sa.Column('satisfied_values', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('version >= 1', name=op.f('ck_questionnaires_version_positive')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_questionnaires')),
    sa.UniqueConstraint('code', 'version', name=op.f('uq_questionnaires_code_version'))
    )
    op.create_table('units',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=20), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('level', sa.Enum('province', 'district', 'commune', 'village', name='unit_level', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('urban', sa.Boolean(), nullable=True),
    sa.CheckConstraint("(level = 'province') = (parent_id IS NULL)", name=op.f('ck_units_province_is_root')),
    sa.ForeignKeyConstraint(['parent_id'], ['units.id'], name=op.f('fk_units_parent_id_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_units')),
    sa.UniqueConstraint('code', name=op.f('uq_units_code'))
    )
    with op.batch_alter_table('units', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_units_parent_id'), ['parent_id'], unique=False)

    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=80), nullable=False),
    sa.Column('full_name', sa.String(length=200), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('role', sa.Enum('admin', 'analyst', 'supervisor', 'enumerator', name='role', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('last_login_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('username', name=op.f('uq_users_username'))
    )
    op.create_table('api_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('revoked', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_api_tokens_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_api_tokens_token_hash'))
    )
    op.create_table('audit_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('action', sa.String(length=50), nullable=False),
    sa.Column('entity', sa.String(length=50), nullable=False),
    sa.Column('entity_id', sa.String(length=50), nullable=False),
    sa.Column('before', sa.JSON(), nullable=True),
    sa.Column('after', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_audit_log_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_log'))
    )
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.create_index('ix_audit_log_entity', ['entity', 'entity_id'], unique=False)

    op.create_table('campaigns',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('questionnaire_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('draft', 'open', 'closed', name='campaign_status', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('starts', sa.Date(), nullable=False),
    sa.Column('ends', sa.Date(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('ends >= starts', name=op.f('ck_campaigns_period_order')),
    sa.ForeignKeyConstraint(['questionnaire_id'], ['questionnaires.id'], name=op.f('fk_campaigns_questionnaire_id_questionnaires')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_campaigns'))
    )
    op.create_table('index_nodes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('questionnaire_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=20), nullable=False),
    sa.Column('level', sa.Enum('criterion', 'field', 'overall', name='index_level', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('rule', sa.Enum('mean', 'item_weighted', 'designated', name='aggregation_rule', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('name', sa.JSON(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['questionnaire_id'], ['questionnaires.id'], name=op.f('fk_index_nodes_questionnaire_id_questionnaires')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_index_nodes')),
    sa.UniqueConstraint('questionnaire_id', 'code', name=op.f('uq_index_nodes_questionnaire_id_code'))
    )
    op.create_table('option_sets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('questionnaire_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=50), nullable=False),
    sa.ForeignKeyConstraint(['questionnaire_id'], ['questionnaires.id'], name=op.f('fk_option_sets_questionnaire_id_questionnaires')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_option_sets')),
    sa.UniqueConstraint('questionnaire_id', 'code', name=op.f('uq_option_sets_questionnaire_id_code'))
    )
    op.create_table('sections',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('questionnaire_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=20), nullable=False),
    sa.Column('title', sa.JSON(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['questionnaire_id'], ['questionnaires.id'], name=op.f('fk_sections_questionnaire_id_questionnaires')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sections')),
    sa.UniqueConstraint('questionnaire_id', 'code', name=op.f('uq_sections_questionnaire_id_code'))
    )
    op.create_table('service_points',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('token', sa.String(length=64), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_service_points_unit_id_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_service_points')),
    sa.UniqueConstraint('token', name=op.f('uq_service_points_token'))
    )
    with op.batch_alter_table('service_points', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_service_points_unit_id'), ['unit_id'], unique=False)

    op.create_table('campaign_channels',
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.Enum('qr', 'kiosk', 'paper', 'web_invite', name='channel', native_enum=False, create_constraint=True), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_campaign_channels_campaign_id_campaigns')),
    sa.PrimaryKeyConstraint('campaign_id', 'channel', name=op.f('pk_campaign_channels'))
    )
    op.create_table('campaign_periods',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('starts', sa.Date(), nullable=False),
    sa.Column('ends', sa.Date(), nullable=False),
    sa.CheckConstraint('ends >= starts', name=op.f('ck_campaign_periods_period_order')),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_campaign_periods_campaign_id_campaigns')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_campaign_periods')),
    sa.UniqueConstraint('campaign_id', 'name', name=op.f('uq_campaign_periods_campaign_id_name'))
    )
    op.create_table('campaign_units',
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_campaign_units_campaign_id_campaigns')),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_campaign_units_unit_id_units')),
    sa.PrimaryKeyConstraint('campaign_id', 'unit_id', name=op.f('pk_campaign_units'))
    )
    op.create_table('options',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('option_set_id', sa.Integer(), nullable=False),
    sa.Column('value', sa.Integer(), nullable=False),
    sa.Column('label', sa.JSON(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.CheckConstraint('value >= 0 AND value <= 9', name=op.f('ck_options_single_digit_value')),
    sa.ForeignKeyConstraint(['option_set_id'], ['option_sets.id'], name=op.f('fk_options_option_set_id_option_sets')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_options')),
    sa.UniqueConstraint('option_set_id', 'value', name=op.f('uq_options_option_set_id_value'))
    )
    op.create_table('questions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('questionnaire_id', sa.Integer(), nullable=False),
    sa.Column('section_id', sa.Integer(), nullable=False),
    sa.Column('option_set_id', sa.Integer(), nullable=True),
    sa.Column('code', sa.String(length=20), nullable=False),
    sa.Column('type', sa.Enum('likert5', 'single', 'multi', 'yes_no', 'text', name='question_type', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('text', sa.JSON(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('required', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['option_set_id'], ['option_sets.id'], name=op.f('fk_questions_option_set_id_option_sets')),
    sa.ForeignKeyConstraint(['questionnaire_id'], ['questionnaires.id'], name=op.f('fk_questions_questionnaire_id_questionnaires')),
    sa.ForeignKeyConstraint(['section_id'], ['sections.id'], name=op.f('fk_questions_section_id_sections')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_questions')),
    sa.UniqueConstraint('questionnaire_id', 'code', name=op.f('uq_questions_questionnaire_id_code'))
    )
    op.create_table('targets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('index_node_id', sa.Integer(), nullable=False),
    sa.Column('target_pct', sa.Numeric(precision=5, scale=2), nullable=False),
    sa.Column('previous_pct', sa.Numeric(precision=5, scale=2), nullable=True),
    sa.Column('previous_rank', sa.String(length=20), nullable=True),
    sa.Column('target_rank', sa.String(length=20), nullable=True),
    sa.CheckConstraint('previous_pct IS NULL OR (previous_pct >= 0 AND previous_pct <= 100)', name=op.f('ck_targets_previous_range')),
    sa.CheckConstraint('target_pct >= 0 AND target_pct <= 100', name=op.f('ck_targets_target_range')),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_targets_campaign_id_campaigns')),
    sa.ForeignKeyConstraint(['index_node_id'], ['index_nodes.id'], name=op.f('fk_targets_index_node_id_index_nodes')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_targets')),
    sa.UniqueConstraint('campaign_id', 'index_node_id', name=op.f('uq_targets_campaign_id_index_node_id'))
    )
    op.create_table('transaction_volumes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('service_point_id', sa.Integer(), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('period_end', sa.Date(), nullable=False),
    sa.Column('transactions', sa.Integer(), nullable=False),
    sa.CheckConstraint('period_end >= period_start', name=op.f('ck_transaction_volumes_period_order')),
    sa.CheckConstraint('transactions >= 0', name=op.f('ck_transaction_volumes_transactions_not_negative')),
    sa.ForeignKeyConstraint(['service_point_id'], ['service_points.id'], name=op.f('fk_transaction_volumes_service_point_id_service_points')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_transaction_volumes')),
    sa.UniqueConstraint('service_point_id', 'period_start', name=op.f('uq_transaction_volumes_service_point_id_period_start'))
    )
    op.create_table('index_parts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('node_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('question_id', sa.Integer(), nullable=True),
    sa.Column('child_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('(question_id IS NULL) <> (child_id IS NULL)', name=op.f('ck_index_parts_question_xor_child')),
    sa.ForeignKeyConstraint(['child_id'], ['index_nodes.id'], name=op.f('fk_index_parts_child_id_index_nodes')),
    sa.ForeignKeyConstraint(['node_id'], ['index_nodes.id'], name=op.f('fk_index_parts_node_id_index_nodes')),
    sa.ForeignKeyConstraint(['question_id'], ['questions.id'], name=op.f('fk_index_parts_question_id_questions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_index_parts')),
    sa.UniqueConstraint('node_id', 'position', name=op.f('uq_index_parts_node_id_position'))
    )
    op.create_table('responses',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('questionnaire_id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.Enum('qr', 'kiosk', 'paper', 'web_invite', name='response_channel', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('status', sa.Enum('draft', 'entered', 'verified', 'final', 'void', name='response_status', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('nonce', sa.String(length=64), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=True),
    sa.Column('service_point_id', sa.Integer(), nullable=True),
    sa.Column('period_id', sa.Integer(), nullable=True),
    sa.Column('serial', sa.String(length=20), nullable=True),
    sa.Column('stratum', sa.String(length=50), nullable=True),
    sa.Column('psu', sa.String(length=50), nullable=True),
    sa.Column('ssu', sa.String(length=50), nullable=True),
    sa.Column('weight', sa.Double(), nullable=True),
    sa.Column('fpc1', sa.Double(), nullable=True),
    sa.Column('fpc2', sa.Double(), nullable=True),
    sa.Column('language', sa.String(length=5), nullable=False),
    sa.Column('flags', sa.JSON(), nullable=False),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('weight IS NULL OR weight > 0', name=op.f('ck_responses_weight_positive')),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_responses_campaign_id_campaigns')),
    sa.ForeignKeyConstraint(['period_id'], ['campaign_periods.id'], name=op.f('fk_responses_period_id_campaign_periods')),
    sa.ForeignKeyConstraint(['questionnaire_id'], ['questionnaires.id'], name=op.f('fk_responses_questionnaire_id_questionnaires')),
    sa.ForeignKeyConstraint(['service_point_id'], ['service_points.id'], name=op.f('fk_responses_service_point_id_service_points')),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_responses_unit_id_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_responses')),
    sa.UniqueConstraint('nonce', name=op.f('uq_responses_nonce'))
    )
    with op.batch_alter_table('responses', schema=None) as batch_op:
        batch_op.create_index('ix_responses_campaign_status', ['campaign_id', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_responses_service_point_id'), ['service_point_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_responses_unit_id'), ['unit_id'], unique=False)

    op.create_table('answers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('response_id', sa.Integer(), nullable=False),
    sa.Column('question_id', sa.Integer(), nullable=False),
    sa.Column('value', sa.Integer(), nullable=True),
    sa.Column('text', sa.String(length=2000), nullable=True),
    sa.ForeignKeyConstraint(['question_id'], ['questions.id'], name=op.f('fk_answers_question_id_questions')),
    sa.ForeignKeyConstraint(['response_id'], ['responses.id'], name=op.f('fk_answers_response_id_responses'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_answers')),
    sa.UniqueConstraint('response_id', 'question_id', name=op.f('uq_answers_response_id_question_id'))
    )
    with op.batch_alter_table('answers', schema=None) as batch_op:
        batch_op.create_index('ix_answers_question_value', ['question_id', 'value'], unique=False)

    op.create_table('invitations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=16), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('response_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_invitations_campaign_id_campaigns')),
    sa.ForeignKeyConstraint(['response_id'], ['responses.id'], name=op.f('fk_invitations_response_id_responses')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invitations')),
    sa.UniqueConstraint('code', name=op.f('uq_invitations_code'))
    )
    with op.batch_alter_table('invitations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_invitations_campaign_id'), ['campaign_id'], unique=False)



def downgrade():
    with op.batch_alter_table('invitations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_invitations_campaign_id'))

    op.drop_table('invitations')
    with op.batch_alter_table('answers', schema=None) as batch_op:
        batch_op.drop_index('ix_answers_question_value')

    op.drop_table('answers')
    with op.batch_alter_table('responses', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_responses_unit_id'))
        batch_op.drop_index(batch_op.f('ix_responses_service_point_id'))
        batch_op.drop_index('ix_responses_campaign_status')

    op.drop_table('responses')
    op.drop_table('index_parts')
    op.drop_table('transaction_volumes')
    op.drop_table('targets')
    op.drop_table('questions')
    op.drop_table('options')
    op.drop_table('campaign_units')
    op.drop_table('campaign_periods')
    op.drop_table('campaign_channels')
    with op.batch_alter_table('service_points', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_service_points_unit_id'))

    op.drop_table('service_points')
    op.drop_table('sections')
    op.drop_table('option_sets')
    op.drop_table('index_nodes')
    op.drop_table('campaigns')
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_log_entity')

    op.drop_table('audit_log')
    op.drop_table('api_tokens')
    op.drop_table('users')
    with op.batch_alter_table('units', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_units_parent_id'))

    op.drop_table('units')
    op.drop_table('questionnaires')
