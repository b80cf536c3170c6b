"""Cloud utilisation: assessment, rightsizing and the adoption KPIs of the municipal plans."""
