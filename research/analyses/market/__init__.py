"""analyses/market"""
