{#- Generic data tests. Each returns the failing rows: zero rows = pass. -#}

{% test unique_combination_of_columns(model, combination_of_columns) %}
{#- A composite key is unique: no combination of the given columns appears twice. -#}
select {{ combination_of_columns | join(', ') }}, count(*) as occurrences
from {{ model }}
group by {{ combination_of_columns | join(', ') }}
having count(*) > 1
{% endtest %}

{% test accepted_range(model, column_name, min_value=none, max_value=none, inclusive=true) %}
{#- Every non-null value lies within [min_value, max_value] (or the open interval when inclusive=false). -#}
select {{ column_name }}
from {{ model }}
where {{ column_name }} is not null
  and (
    false
    {%- if min_value is not none %}
    or {{ column_name }} {{ '<' if inclusive else '<=' }} {{ min_value }}
    {%- endif %}
    {%- if max_value is not none %}
    or {{ column_name }} {{ '>' if inclusive else '>=' }} {{ max_value }}
    {%- endif %}
  )
{% endtest %}

{% test expression_is_true(model, expression) %}
{#- A row-level business rule: rows where the expression is not true fail. -#}
select *
from {{ model }}
where not coalesce(({{ expression }}), false)
{% endtest %}

{% test balanced_debits_credits(model, group_by, debit_column='debit', credit_column='credit') %}
{#- Double-entry bookkeeping: within each group, debits equal credits to the cent. -#}
select {{ group_by }}, sum({{ debit_column }}) as debits, sum({{ credit_column }}) as credits
from {{ model }}
group by {{ group_by }}
having sum({{ debit_column }}) <> sum({{ credit_column }})
{% endtest %}
