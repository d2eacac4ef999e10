def add(a, b):
    return 


def fizzbuzz(n):
    """Return "Fizz", "Buzz", "FizzBuzz" or the number as a string."""
    if n % 15 == 0:
        return "FizzBuzz"
