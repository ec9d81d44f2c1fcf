// Which server this is (checked at connect time).
CALL dbms.components() YIELD name, versions, edition
RETURN name, versions[0] AS version, edition
