"""polls: a community's questions beside the budget vote, and the answers to them

A poll, its questions and their options; each answer as cast (its canonical body) with
the server's decision about it, and one item row per value it gives (plus one per
question it answers), so the count is one GROUP BY over the counted items.

Revision ID: 0016
Revises: 0015
"""

from alembic import op
import sqlalchemy as sa


revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('poll',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('description', sa.String(length=2000), nullable=False),
    sa.Column('opens_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('closes_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['community_id'], ['community.id'], name=op.f('fk_poll_community_id_community')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_poll'))
    )
    op.create_index(op.f('ix_poll_community_id'), 'poll', ['community_id'], unique=False)
    op.create_table('poll_answer',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('poll_id', sa.Integer(), nullable=False),
    sa.Column('voter', sa.String(length=70), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('device_id', sa.String(length=64), nullable=True),
    sa.Column('cast_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('body', sa.JSON(), nullable=False),
    sa.Column('source', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('counted_answer_id', sa.String(length=36), nullable=True),
    sa.ForeignKeyConstraint(['community_id'], ['community.id'], name=op.f('fk_poll_answer_community_id_community')),
    sa.ForeignKeyConstraint(['poll_id'], ['poll.id'], name=op.f('fk_poll_answer_poll_id_poll')),
    sa.PrimaryKeyConstraint('community_id', 'id', name='pk_poll_answer')
    )
    op.create_index('ix_poll_answer_poll_voter', 'poll_answer', ['poll_id', 'voter'], unique=False)
    op.create_table('poll_question',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('poll_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('text', sa.String(length=500), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('max_choices', sa.Integer(), nullable=True),
    sa.Column('max_points', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['community_id'], ['community.id'], name=op.f('fk_poll_question_community_id_community')),
    sa.ForeignKeyConstraint(['poll_id'], ['poll.id'], name=op.f('fk_poll_question_poll_id_poll'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_poll_question'))
    )
    op.create_index('ix_poll_question_poll', 'poll_question', ['poll_id', 'position'], unique=False)
    op.create_table('poll_answer_item',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('answer_id', sa.String(length=36), nullable=False),
    sa.Column('poll_id', sa.Integer(), nullable=False),
    sa.Column('question_id', sa.Integer(), nullable=False),
    sa.Column('option_id', sa.Integer(), nullable=True),
    sa.Column('value', sa.Integer(), nullable=False),
    sa.Column('counted', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['community_id', 'answer_id'], ['poll_answer.community_id', 'poll_answer.id'], name='fk_poll_answer_item_answer'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_poll_answer_item'))
    )
    op.create_index('ix_poll_answer_item_answer', 'poll_answer_item', ['community_id', 'answer_id'], unique=False)
    op.create_index('ix_poll_answer_item_poll_counted', 'poll_answer_item', ['poll_id', 'counted'], unique=False)
    op.create_table('poll_option',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('question_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('text', sa.String(length=300), nullable=False),
    sa.ForeignKeyConstraint(['community_id'], ['community.id'], name=op.f('fk_poll_option_community_id_community')),
    sa.ForeignKeyConstraint(['question_id'], ['poll_question.id'], name=op.f('fk_poll_option_question_id_poll_question'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_poll_option'))
    )
    op.create_index('ix_poll_option_question', 'poll_option', ['question_id', 'position'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_poll_option_question', table_name='poll_option')
    op.drop_table('poll_option')
    op.drop_index('ix_poll_answer_item_poll_counted', table_name='poll_answer_item')
    op.drop_index('ix_poll_answer_item_answer', table_name='poll_answer_item')
    op.drop_table('poll_answer_item')
    op.drop_index('ix_poll_question_poll', table_name='poll_question')
    op.drop_table('poll_question')
    op.drop_index('ix_poll_answer_poll_voter', table_name='poll_answer')
    op.drop_table('poll_answer')
    op.drop_index(op.f('ix_poll_community_id'), table_name='poll')
    op.drop_table('poll')
