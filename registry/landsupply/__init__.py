"""Land-supply calculator (供地测算): control indicator tables, the calculation, the standard-factory alternative and park land balance."""
