"""analyses/forecast"""
