"""The vacancy map for investment staff: the search by place and needs, building cards, brochures."""
