"""analyses/keywords"""
