"""Package set-up read from settings.ini: the nbdev template without `pkg_resources`, with an SPDX license
expression (PEP 639) instead of the deprecated license classifier, and the optional extras."""
from configparser import ConfigParser
import setuptools, shlex

config = ConfigParser(delimiters=['='])
config.read('settings.ini', encoding='utf-8')
cfg = config['DEFAULT']

cfg_keys = 'version description keywords author author_email'.split()
expected = cfg_keys + "lib_name user branch license status min_python audience language".split()
for o in expected: assert o in cfg, "missing expected setting: {}".format(o)
setup_cfg = {o: cfg[o] for o in cfg_keys}

licenses = {'apache2': 'Apache-2.0', 'mit': 'MIT'}  # nbdev's license names -> SPDX license expressions
statuses = ['1 - Planning', '2 - Pre-Alpha', '3 - Alpha', '4 - Beta', '5 - Production/Stable', '6 - Mature', '7 - Inactive']
py_versions = '3.9 3.10 3.11 3.12 3.13'.split()

def reqs(key): return shlex.split(cfg.get(key, ''))   # whitespace- or newline-separated; '#' lines are comments
requirements = reqs('requirements') + reqs('pip_requirements')
distributed = reqs('distributed_requirements')
min_python = cfg['min_python']
spdx = licenses.get(cfg['license'].lower(), cfg['license'])
# setuptools >= 77 knows license expressions; an older one (no build isolation) gets the same text as plain `license`
new_setuptools = int(setuptools.__version__.split('.')[0]) >= 77
license_kw = dict(license_expression=spdx) if new_setuptools else dict(license=spdx)

setuptools.setup(
    name=cfg['lib_name'],
    **license_kw,
    license_files=['LICENSE'],
    classifiers=['Development Status :: ' + statuses[int(cfg['status']) - 1],   # status 3 is '3 - Alpha'
                 'Intended Audience :: ' + cfg['audience'].title(),
                 'Natural Language :: ' + cfg['language'].title()]
                + ['Programming Language :: Python :: ' + o for o in py_versions[py_versions.index(min_python):]],
    url=cfg['git_url'],
    packages=setuptools.find_packages(include=[cfg['lib_name'], cfg['lib_name'] + '.*']),
    include_package_data=True,
    install_requires=requirements,
    extras_require={'distributed': distributed,                      # pip install learner_course[distributed]
                    'dev': reqs('dev_requirements') + distributed},  # tests and CI run lesson 11 too
    python_requires='>=' + cfg['min_python'],
    long_description=open('README.md', encoding='utf-8').read(),
    long_description_content_type='text/markdown',
    zip_safe=False,
    entry_points={
        'console_scripts': cfg.get('console_scripts', '').split(),
        'nbdev': [f'{cfg.get("lib_path")}={cfg.get("lib_path")}._modidx:d'],
    },
    **setup_cfg)
