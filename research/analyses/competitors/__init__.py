"""analyses/competitors"""
