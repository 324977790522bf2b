-- Period-close control: every journal entry must balance (debits = credits) in its currency. Rows = entries.
select journal_entry_id, entry_date, entry_source, count(*) as lines, cast(sum(debit) as decimal(18, 2)) as total_debit,
       cast(sum(credit) as decimal(18, 2)) as total_credit, sum(debit) = sum(credit) as is_balanced
from {{ ref('int_gl__journal_lines_enriched') }}
group by journal_entry_id, entry_date, entry_source
