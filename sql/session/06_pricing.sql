-- The pricing rows as structs in vc_pricing_model's order, indexed by its codes (sql/06_pricing.sql).
-- A variable, so each session sets it: the definitions in sql/ and views/ are built once and kept.
SET VARIABLE vc_pricing_rows = (SELECT list(p ORDER BY enum_code(p.model::vc_pricing_model)) FROM pricing p);
