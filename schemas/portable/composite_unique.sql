-- A composite UNIQUE over two FKs and one over an FK plus an own column.
CREATE TABLE course (
    course_id INTEGER NOT NULL PRIMARY KEY,
    title VARCHAR(100) NOT NULL
);
CREATE TABLE student (
    student_id INTEGER NOT NULL PRIMARY KEY,
    username VARCHAR(30) NOT NULL UNIQUE
);
CREATE TABLE enrolment (
    enrolment_id INTEGER NOT NULL PRIMARY KEY,
    course_id INTEGER NOT NULL REFERENCES course (course_id),
    student_id INTEGER NOT NULL REFERENCES student (student_id),
    seat_no INTEGER NOT NULL,
    CONSTRAINT enrolment_once UNIQUE (course_id, student_id),
    CONSTRAINT enrolment_seat UNIQUE (course_id, seat_no)
);
