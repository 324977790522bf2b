{#- SQL helpers used across the Northstar models. Kept dialect-neutral (DuckDB and Snowflake). -#}

{% macro safe_divide(numerator, denominator) -%}
    case when ({{ denominator }}) is null or ({{ denominator }}) = 0 then null
         else cast({{ numerator }} as double) / ({{ denominator }}) end
{%- endmacro %}

{% macro surrogate_key(columns) -%}
    md5({%- for col in columns %}coalesce(cast({{ col }} as varchar), '_null_'){% if not loop.last %} || '|' || {% endif %}{%- endfor %})
{%- endmacro %}

{% macro usd(amount, rate) -%}
    cast(({{ amount }}) * coalesce({{ rate }}, 1) as decimal(18, 2))
{%- endmacro %}
