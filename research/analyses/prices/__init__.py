"""analyses/prices"""
