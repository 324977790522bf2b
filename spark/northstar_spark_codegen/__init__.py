"""Build-time code generation for the Spark jobs (resolve ``tools``: needs PyYAML, which job PEXes do not carry)."""
