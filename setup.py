from pathlib import Path

from setuptools import find_packages, setup

HERE = Path(__file__).parent
version: dict[str, str] = {}
exec((HERE / "scar" / "version.py").read_text(), version)

setup(
    name="scar",
    version=version["__version__"],
    description="Run container images as serverless functions on AWS Lambda, AWS Batch and OSCAR",
    long_description=(HERE / "README.md").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    license="Apache-2.0",
    python_requires=">=3.10",
    packages=find_packages(include=["scar", "scar.*"]),
    package_data={"scar": ["py.typed"]},
    install_requires=[
        line.strip()
        for line in (HERE / "requirements.txt").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ],
    entry_points={"console_scripts": ["scar = scar.cli.main:main"]},
    classifiers=[
        "License :: OSI Approved :: Apache Software License",
        "Programming Language :: Python :: 3",
        "Environment :: Console",
    ],
)
