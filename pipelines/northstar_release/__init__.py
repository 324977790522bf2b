"""Northstar release system: content-addressed artifacts promoted dev -> staging -> prod with gates, rollback and audit."""
